#pragma once
// The gate of one group's requests (issue 14 item 3): members of one household or 戸籍 asked for
// at one instant through different channels. With last-byte synchronisation each member's
// request is written but for its last byte, then waits here; when every member still expected
// has arrived (or max_hold after the first one did), all of them are let go at once and each
// writes its last byte: the server completes the group's requests within microseconds of each
// other instead of within a scheduling jitter of each other.
//
// Every member runs on one io_context (the worker's): no lock. Owned by the members
// (shared_ptr); the group id travels in the X-Kofu-Group header so that a server (kofu-mock)
// can measure how far apart the group's requests arrived.

#include <chrono>
#include <cstddef>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kofu::driver {

// The header that names a request's group: "ID;n=MEMBERS".
inline constexpr const char* group_header = "X-Kofu-Group";

class group_sync {
 public:
  // `members`: requests expected at the gate. `last_byte`: hold the last byte (otherwise the gate
  // only names the group).
  group_sync(boost::asio::any_io_executor executor, std::string id, std::size_t members,
             bool last_byte, std::chrono::milliseconds max_hold);

  const std::string& id() const { return id_; }
  std::size_t members() const { return members_; }
  bool last_byte() const { return last_byte_; }
  // The header's value ("ID;n=MEMBERS").
  std::string header_value() const;

  // A member that will not be sent after all (dropped, or no ticket left): no one waits for it.
  void leave();
  // A member whose request is written but for its last byte: returns when the gate opens.
  boost::asio::awaitable<void> arrive();

 private:
  void open();

  std::string id_;
  std::size_t members_;
  bool last_byte_;
  std::chrono::milliseconds max_hold_;
  boost::asio::steady_timer release_;
  std::size_t expected_;
  std::size_t arrived_ = 0;
  bool open_ = false;
};

}  // namespace kofu::driver
