// PPP negotiation: control protocols over the RFC 1661 automaton and their
// option policies. One header per job:
//   ppp/frame_queue.hpp       frames waiting to be sent
//   ppp/control_protocol.hpp  the generic packet handling and the option_policy concept
//   ppp/option_policies.hpp   LCP, IPCP and IPV6CP policies, auth_method
#pragma once

#include <l2sec/ppp/control_protocol.hpp>
#include <l2sec/ppp/frame_queue.hpp>
#include <l2sec/ppp/option_policies.hpp>
