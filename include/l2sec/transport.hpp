// Transports: the transport::datagram concept, a POSIX UDP socket and a
// seeded in-memory lossy network for tests and the demo; the tun_device
// concept and an in-memory TUN. Linux-only policies are included one by one:
// <l2sec/transport/linux_tun.hpp>, netdev.hpp, raw_esp.hpp, udp_batch.hpp,
// shard.hpp (docs/transport.md).
#pragma once

#include <l2sec/transport/datagram.hpp>
#include <l2sec/transport/endpoint.hpp>
#include <l2sec/transport/error.hpp>
#include <l2sec/transport/memory_network.hpp>
#include <l2sec/transport/memory_tun.hpp>
#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/tun.hpp>
