#pragma once
// A marked race window: the pause between two steps of the processing path where another request
// or update may interleave. Zero by default without defects (no pause at all). The pause widens a
// window that exists anyway; it never makes the correct path incorrect.

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kofu::mock {

inline boost::asio::awaitable<void> race_window_pause(std::chrono::milliseconds window) {
  if (window.count() <= 0) co_return;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, window);
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace kofu::mock
