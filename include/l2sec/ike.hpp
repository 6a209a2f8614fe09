// IKE: IKEv1/ISAKMP and IKEv2 codecs, key schedules and encrypted payloads.
#pragma once

#include <l2sec/crypto/dh.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/nat.hpp>
#include <l2sec/ike/payload.hpp>
#include <l2sec/ike/prf.hpp>
#include <l2sec/ike/proposal.hpp>
#include <l2sec/ike/reencode.hpp>
#include <l2sec/ike/registry.hpp>
#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/ike/v1/keys.hpp>
#include <l2sec/ike/v1/payloads.hpp>
#include <l2sec/ike/v1/vendor_ids.hpp>
#include <l2sec/ike/v2/engine.hpp>
#include <l2sec/ike/v2/keys.hpp>
#include <l2sec/ike/v2/payloads.hpp>
#include <l2sec/ike/v2/sk.hpp>
