#include "kofu/driver/group_sync.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace {

TEST(GroupSyncTest, OpensWhenEveryMemberArrivedOrTheMissingOneLeft) {
  boost::asio::io_context io;
  auto gate = std::make_shared<kofu::driver::group_sync>(io.get_executor(), "1-0-0", 3, true,
                                                         std::chrono::seconds(30));
  int through = 0;
  for (int i = 0; i < 2; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await gate->arrive();
          ++through;
        },
        boost::asio::detached);
  }
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(through, 0);  // two of three: held
  gate->leave();          // the third will not come
  io.restart();
  io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(through, 2);
  EXPECT_EQ(gate->header_value(), "1-0-0;n=3");
}

TEST(GroupSyncTest, MaxHoldLetsThosePresentGo) {
  boost::asio::io_context io;
  auto gate = std::make_shared<kofu::driver::group_sync>(io.get_executor(), "g", 2, true,
                                                         std::chrono::milliseconds(10));
  bool through = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await gate->arrive();
        through = true;
      },
      boost::asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(through);
}

}  // namespace
