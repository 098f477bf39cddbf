// MoA and MInference configs from the explorer: they are fitted to a recording's attention
// statistics by LibTorch code (analyses/sparse), which the explorer does not link, so it runs
// `headscope sparse-config RECORDING --format moa|minference --out DIR` as a child process
// (QProcess: asynchronous, cancellable, its output passed on line by line). The headscope
// program is looked for beside the explorer's own.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QProcess>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include "core/checkpoint/sparse_config_files.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

// Whether a format is written by running sparse-config on a recording (moa, minference) rather
// than from a sparse-eval config (sparse_config_export.h).
bool fitted_format(SparseFormat format);

// Whether any run of the file holds attention statistics (/runs/<i>/attention_stats, from
// `headscope record --attention stats`): what sparse-config fits MoA and MInference to.
// Metadata only; takes hdf5_lock().
bool has_attention_statistics(const OpenFile& file);

// The headscope program for an explorer in `explorer_dir`: `explorer_dir`/headscope (an
// install's bin/, or `headscope explore`, whose own directory it is), else the build tree's
// cli/headscope seen from gui/app/. Empty when neither is an executable file.
QString find_headscope_program(const QString& explorer_dir);
// Why find_headscope_program found nothing, naming the places it looked.
QString missing_program_message(const QString& explorer_dir);

// sparse-config's arguments for a fitted format with its default options.
QStringList sparse_config_arguments(const QString& recording, SparseFormat format,
                                    const QString& out);

// One sparse-config run at a time. Emits output() for each line the program prints (stdout and
// stderr), then finished() once: ok with the summary it printed, or not with why (the program
// not starting, its exit status and first error line, or cancel()).
class SparseConfigRun : public QObject {
  Q_OBJECT

 public:
  explicit SparseConfigRun(QObject* parent = nullptr);
  ~SparseConfigRun() override;

  // False, starting nothing, while a run is in progress. A program that cannot start may emit
  // finished() before this returns.
  bool start(const QString& program, const QString& recording, SparseFormat format,
             const QString& out);
  // Kills the running program; finished() says it was cancelled.
  void cancel();
  bool running() const { return process_.state() != QProcess::NotRunning; }

 signals:
  void output(const QString& line);
  void finished(bool ok, const QString& message);

 private:
  void read_lines(QProcess::ProcessChannel channel);
  void finish(int status, QProcess::ExitStatus exit);
  void fail_to_start(QProcess::ProcessError error);

  QProcess process_;
  QString description_;    // "headscope sparse-config FILE --format F": for messages
  QByteArray partial_[2];  // an unfinished last line per channel
  QStringList stdout_lines_, stderr_lines_;
  bool cancelled_ = false;
};

}  // namespace headscope::gui
