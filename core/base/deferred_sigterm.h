// SIGTERM held back as a flag while an object of this class lives, for work that must save what
// it completed before it stops: torchrun stops every rank with SIGTERM once one has died, and
// rank 0 of a distributed recording still has to write the runs the part files hold.
#pragma once

#include <csignal>

namespace headscope {

class DeferredSigterm {
 public:
  DeferredSigterm() {
    received_flag() = 0;
    struct sigaction action = {};
    action.sa_handler = [](int) { received_flag() = 1; };
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, &previous_);
  }
  ~DeferredSigterm() { sigaction(SIGTERM, &previous_, nullptr); }
  DeferredSigterm(const DeferredSigterm&) = delete;
  DeferredSigterm& operator=(const DeferredSigterm&) = delete;

  // Whether SIGTERM arrived since construction: the caller stops at its next safe point.
  static bool received() { return received_flag() != 0; }

 private:
  static volatile std::sig_atomic_t& received_flag() {
    static volatile std::sig_atomic_t flag = 0;
    return flag;
  }
  struct sigaction previous_ = {};
};

}  // namespace headscope
