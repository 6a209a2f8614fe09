// The names every L2TP engine test uses, said once.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>

#include <chrono>

namespace l2sec::l2tp {}
namespace l2sec::transport {}
namespace l2sec::test {}

using l2sec::bytes_view;
using l2sec::time_point;
using namespace l2sec::l2tp;
using namespace std::chrono_literals;
namespace tr = l2sec::transport;
namespace test = l2sec::test;
