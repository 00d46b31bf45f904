#pragma once
// The deadline of a connection's current read or write, kept by one timer for the whole
// connection (the "lazy timer" of many HTTP servers). Starting an operation only records when it
// must be done by: no timer operation, no system call per request. The timer, once armed, wakes at
// the deadline it was armed for and then re-arms for a later deadline, goes idle when no operation
// is under way, or — the deadline has passed — cancels the socket's operations and marks the
// connection timed out; the session sees operation_aborted and asks timed_out().
//
// Not tcp_stream's own expiry: that closes the socket, and a client that has sent part of a
// request must still be told 408.
//
// Thread-safety: every call, and the timer's handler, runs on the connection's strand (the timer
// takes the executor it is given). The object is shared with the timer's pending wait, so it may
// outlive the session; close() detaches it from the stream.

#include <chrono>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace kofu::mock {

class connection_deadline : public std::enable_shared_from_this<connection_deadline> {
 public:
  using clock = std::chrono::steady_clock;

  connection_deadline(const boost::asio::any_io_executor& executor,
                      boost::beast::tcp_stream& stream)
      : timer_(executor), stream_(&stream) {}

  // An operation begins and must finish within `timeout`. Deadlines only move later (a
  // connection uses one timeout for all its operations).
  void start(clock::duration timeout) {
    deadline_ = clock::now() + timeout;
    timed_out_ = false;
    if (!armed_) arm();
  }
  // No operation under way any more.
  void finish() { deadline_ = clock::time_point::max(); }
  // The last started operation was cancelled because its deadline passed.
  bool timed_out() const { return timed_out_; }
  // The stream goes away: never touch it again, and let the timer go.
  void close() {
    stream_ = nullptr;
    timer_.cancel();
  }

 private:
  void arm() {
    armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code&) { self->on_wake(); });
  }
  void on_wake() {
    armed_ = false;
    if (stream_ == nullptr || deadline_ == clock::time_point::max()) return;  // closed or idle
    if (clock::now() < deadline_) {
      arm();  // the deadline moved on since the timer was armed
      return;
    }
    timed_out_ = true;
    boost::system::error_code ignored;
    stream_->socket().cancel(ignored);
  }

  boost::asio::steady_timer timer_;
  boost::beast::tcp_stream* stream_;                       // null once closed
  clock::time_point deadline_ = clock::time_point::max();  // max: no operation under way
  bool armed_ = false;                                     // a wait is pending
  bool timed_out_ = false;
};

}  // namespace kofu::mock
