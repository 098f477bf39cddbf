// Reads on a worker thread whose result only the latest request gets: each start() supersedes
// the ones before, whose results are dropped when they arrive. The result comes back to the
// owner's (GUI) thread as an immutable shared value, or as the error's message; views never
// block on I/O.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QFutureWatcher>
#include <QtCore/QObject>
#include <QtCore/QString>

namespace headscope::gui {

template <class T>
class LatestRequest {
 public:
  struct Outcome {
    std::shared_ptr<const T> value;  // null on failure
    QString error;
  };

  explicit LatestRequest(QObject* owner) : owner_(owner) {}

  void start(std::function<T()> work, std::function<void(const Outcome&)> done) {
    const uint64_t generation = ++generation_;
    ++pending_;
    auto* watcher = new QFutureWatcher<Outcome>(owner_);
    QObject::connect(watcher, &QFutureWatcher<Outcome>::finished, owner_,
                     [this, watcher, generation, done] {
                       --pending_;
                       if (generation == generation_) done(watcher->result());
                       watcher->deleteLater();
                     });
    watcher->setFuture(QtConcurrent::run([work = std::move(work)]() -> Outcome {
      try {
        return {std::make_shared<const T>(work()), {}};
      } catch (const std::exception& e) {
        return {nullptr, QString::fromStdString(e.what())};
      }
    }));
  }

  // Drops the result of every request started so far: for a view that moves on (another file)
  // without starting a read, so a late result of the old one is not shown.
  void cancel() { ++generation_; }

  // Whether any read, current or superseded, is still running (the screenshot mode waits).
  bool busy() const { return pending_ > 0; }

 private:
  QObject* owner_;
  uint64_t generation_ = 0;
  int pending_ = 0;
};

}  // namespace headscope::gui
