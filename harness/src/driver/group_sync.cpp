#include "kofu/driver/group_sync.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kofu::driver {

namespace asio = boost::asio;

group_sync::group_sync(asio::any_io_executor executor, std::string id, std::size_t members,
                       bool last_byte, std::chrono::milliseconds max_hold)
    : id_(std::move(id)),
      members_(members),
      last_byte_(last_byte),
      max_hold_(max_hold),
      release_(std::move(executor), std::chrono::steady_clock::time_point::max()),
      expected_(members) {}

std::string group_sync::header_value() const { return fmt::format("{};n={}", id_, members_); }

void group_sync::open() {
  open_ = true;
  release_.cancel();
}

void group_sync::leave() {
  if (expected_ > 0) --expected_;
  if (arrived_ > 0 && arrived_ >= expected_) open();
}

asio::awaitable<void> group_sync::arrive() {
  ++arrived_;
  if (open_) co_return;  // came after the gate opened (it held no longer than max_hold)
  if (arrived_ >= expected_) {
    open();
    co_return;
  }
  // The first member starts the clock: a member still waiting for a free connection must not hold
  // the others past max_hold.
  if (arrived_ == 1) release_.expires_after(max_hold_);
  while (!open_) {
    co_await release_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!open_ && std::chrono::steady_clock::now() >= release_.expiry()) open();
  }
}

}  // namespace kofu::driver
