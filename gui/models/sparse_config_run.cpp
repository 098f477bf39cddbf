#include "gui/models/sparse_config_run.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>

#include "core/store/recording_schema.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {
namespace {

constexpr char kProgram[] = "headscope";

// Where find_headscope_program looks, in order.
QStringList program_candidates(const QString& explorer_dir) {
  const QDir dir(explorer_dir);
  return {QDir::cleanPath(dir.filePath(kProgram)),
          QDir::cleanPath(dir.filePath(QStringLiteral("../../cli/") + kProgram))};
}

}  // namespace

bool fitted_format(SparseFormat format) {
  return format == SparseFormat::kMoa || format == SparseFormat::kMInference;
}

bool has_attention_statistics(const OpenFile& file) {
  auto lock = hdf5_lock();
  for (int64_t run = 0; run < file.run_count(); ++run) {
    if (file.reader().has(run, kAttentionStats)) return true;
  }
  return false;
}

QString find_headscope_program(const QString& explorer_dir) {
  for (const QString& candidate : program_candidates(explorer_dir)) {
    const QFileInfo info(candidate);
    if (info.isFile() && info.isExecutable()) return candidate;
  }
  return {};
}

QString missing_program_message(const QString& explorer_dir) {
  return QObject::tr(
             "cannot find the headscope program (looked for %1), which fits MoA and "
             "MInference configs: install it beside the explorer, or run `headscope "
             "sparse-config RECORDING --format moa|minference --out DIR`")
      .arg(program_candidates(explorer_dir).join(QStringLiteral(" and ")));
}

QStringList sparse_config_arguments(const QString& recording, SparseFormat format,
                                    const QString& out) {
  return {QStringLiteral("sparse-config"), recording,
          QStringLiteral("--format"),      QString::fromLatin1(sparse_format_name(format)),
          QStringLiteral("--out"),         out};
}

SparseConfigRun::SparseConfigRun(QObject* parent) : QObject(parent) {
  connect(&process_, &QProcess::readyReadStandardOutput, this,
          [this] { read_lines(QProcess::StandardOutput); });
  connect(&process_, &QProcess::readyReadStandardError, this,
          [this] { read_lines(QProcess::StandardError); });
  connect(&process_, &QProcess::finished, this, &SparseConfigRun::finish);
  connect(&process_, &QProcess::errorOccurred, this, &SparseConfigRun::fail_to_start);
}

SparseConfigRun::~SparseConfigRun() {
  // No orphaned child writing configs after the window closed.
  process_.disconnect(this);
  if (running()) {
    process_.kill();
    process_.waitForFinished();
  }
}

bool SparseConfigRun::start(const QString& program, const QString& recording, SparseFormat format,
                            const QString& out) {
  if (running()) return false;
  description_ = QStringLiteral("headscope sparse-config %1 --format %2")
                     .arg(recording, QString::fromLatin1(sparse_format_name(format)));
  partial_[0].clear();
  partial_[1].clear();
  stdout_lines_.clear();
  stderr_lines_.clear();
  cancelled_ = false;
  process_.start(program, sparse_config_arguments(recording, format, out));
  return true;
}

void SparseConfigRun::cancel() {
  if (!running()) return;
  cancelled_ = true;
  process_.kill();
}

void SparseConfigRun::read_lines(QProcess::ProcessChannel channel) {
  process_.setReadChannel(channel);
  // Bytes until a whole line came: a read may end inside a UTF-8 sequence.
  QByteArray& partial = partial_[channel];
  partial += process_.readAll();
  QStringList& lines = channel == QProcess::StandardOutput ? stdout_lines_ : stderr_lines_;
  qsizetype end;
  while ((end = partial.indexOf('\n')) >= 0) {
    const QString line = QString::fromUtf8(partial.left(end)).trimmed();
    partial.remove(0, end + 1);
    if (line.isEmpty()) continue;
    lines << line;
    emit output(line);
  }
}

void SparseConfigRun::finish(int status, QProcess::ExitStatus exit) {
  read_lines(QProcess::StandardOutput);
  read_lines(QProcess::StandardError);
  for (int channel = 0; channel < 2; ++channel) {
    const QString rest = QString::fromUtf8(partial_[channel]).trimmed();
    if (rest.isEmpty()) continue;
    (channel == QProcess::StandardOutput ? stdout_lines_ : stderr_lines_) << rest;
    emit output(rest);
  }
  if (cancelled_) {
    emit finished(false,
                  tr("%1: cancelled; the folder may hold part of its files").arg(description_));
  } else if (exit == QProcess::CrashExit) {
    emit finished(false, tr("%1 crashed (%2)").arg(description_, process_.errorString()));
  } else if (status != 0) {
    // headscope's errors are one line, "headscope: error: ...": the first one says why.
    QString why = stderr_lines_.isEmpty() ? tr("no error message") : stderr_lines_.front();
    for (const QString& line : stderr_lines_) {
      if (line.contains(QStringLiteral("error:"))) {
        why = line;
        break;
      }
    }
    emit finished(false,
                  tr("%1 ended with exit status %2: %3").arg(description_).arg(status).arg(why));
  } else {
    emit finished(true, tr("%1: %2").arg(description_, stdout_lines_.join(QStringLiteral(" "))));
  }
}

void SparseConfigRun::fail_to_start(QProcess::ProcessError error) {
  // Other errors end in finished(); a program that never started does not.
  if (error != QProcess::FailedToStart) return;
  emit finished(
      false,
      tr("%1: cannot run %2 (%3)").arg(description_, process_.program(), process_.errorString()));
}

}  // namespace headscope::gui
