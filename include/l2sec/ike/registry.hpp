// The IANA registries IKEv1 (RFC 2407/2408/2409/3947) and IKEv2 (RFC 7296 and
// later) need, as enums with their names. A name function returns nullptr for
// a value it does not know; callers print the number then.
//
// The registries live in registry/, one file per family; this header is the
// one to include.
#pragma once

#include <l2sec/ike/registry/messages.hpp>
#include <l2sec/ike/registry/notify.hpp>
#include <l2sec/ike/registry/transforms.hpp>
#include <l2sec/ike/registry/v1_attributes.hpp>
