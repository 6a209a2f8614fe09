// Transports: the transport::datagram concept, a POSIX UDP socket and a
// seeded in-memory lossy network for tests and the demo.
#pragma once

#include <l2sec/transport/datagram.hpp>
#include <l2sec/transport/endpoint.hpp>
#include <l2sec/transport/error.hpp>
#include <l2sec/transport/memory_network.hpp>
#include <l2sec/transport/posix_udp.hpp>
