// L2TPv2 codecs (RFC 2661): header, AVPs and their typed values, hidden AVPs,
// tunnel authentication, messages (parse, build, validate).
#pragma once

#include <l2sec/l2tp/avp.hpp>
#include <l2sec/l2tp/avp_values.hpp>
#include <l2sec/l2tp/error.hpp>
#include <l2sec/l2tp/header.hpp>
#include <l2sec/l2tp/hidden.hpp>
#include <l2sec/l2tp/message.hpp>
#include <l2sec/l2tp/validate.hpp>
