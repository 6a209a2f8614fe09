// Classic pcap reader/writer, IPv4/IPv6/UDP decoding, synthetic frame builder.
#pragma once

#include <l2sec/pcap/builder.hpp>
#include <l2sec/pcap/error.hpp>
#include <l2sec/pcap/file.hpp>
#include <l2sec/pcap/io.hpp>
#include <l2sec/pcap/ip.hpp>
#include <l2sec/pcap/pcapng.hpp>
