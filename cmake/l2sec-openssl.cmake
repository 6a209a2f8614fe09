# Finds OpenSSL 3 (find_package(OpenSSL), the Crypto component) and defines
# the INTERFACE target l2sec_openssl (l2sec::openssl) when found. Used both
# by the build tree and by the installed package config.
if(NOT TARGET l2sec_openssl AND NOT TARGET l2sec::openssl)
  find_package(OpenSSL 3.0 QUIET COMPONENTS Crypto)
  if(OpenSSL_FOUND OR OPENSSL_FOUND)
    set(L2SEC_OPENSSL_FOUND ON)
  endif()
endif()
if(L2SEC_OPENSSL_FOUND AND NOT TARGET l2sec_openssl AND TARGET l2sec::l2sec
   AND NOT L2SEC_OPENSSL_IMPORTING)
  add_library(l2sec_openssl INTERFACE)
  add_library(l2sec::openssl ALIAS l2sec_openssl)
  target_link_libraries(l2sec_openssl INTERFACE l2sec::l2sec OpenSSL::Crypto)
endif()
