# Installs l2sec from SOURCE into WORK/prefix, then configures, builds and
# runs the consumer project against it. Fails on the first error. Uses the
# generator and make program of the outer build: a machine with only Ninja
# (no make) must pass too.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/lib -G ${GENERATOR} -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}
    -DCMAKE_CXX_COMPILER=${CXX}
    -DL2SEC_BUILD_TESTS=OFF -DL2SEC_BUILD_EXAMPLES=OFF -DL2SEC_BUILD_BENCH=OFF
    -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${WORK}/lib)
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/consumer -B ${WORK}/consumer -G ${GENERATOR}
    -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK}/prefix -DL2SEC_REQUIRE_BOTAN=${REQUIRE_BOTAN}
    -DL2SEC_REQUIRE_OPENSSL=${REQUIRE_OPENSSL})
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
if(REQUIRE_BOTAN)
  run(${WORK}/consumer/consumer_botan)
endif()
if(REQUIRE_OPENSSL)
  run(${WORK}/consumer/consumer_openssl)
endif()
