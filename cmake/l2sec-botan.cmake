# Finds Botan 3 (preferred) or Botan 2 through pkg-config and defines the
# INTERFACE target l2sec_botan (l2sec::botan) when found. Used both by the
# build tree and by the installed package config.
if(NOT TARGET l2sec_botan AND NOT TARGET l2sec::botan)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(L2SEC_BOTAN QUIET IMPORTED_TARGET GLOBAL botan-3)
    if(NOT L2SEC_BOTAN_FOUND)
      pkg_check_modules(L2SEC_BOTAN QUIET IMPORTED_TARGET GLOBAL botan-2)
    endif()
  endif()
endif()
if(L2SEC_BOTAN_FOUND AND NOT TARGET l2sec_botan AND TARGET l2sec::l2sec AND NOT L2SEC_BOTAN_IMPORTING)
  add_library(l2sec_botan INTERFACE)
  add_library(l2sec::botan ALIAS l2sec_botan)
  target_link_libraries(l2sec_botan INTERFACE l2sec::l2sec PkgConfig::L2SEC_BOTAN)
endif()
