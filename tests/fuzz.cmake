# Builds the libFuzzer targets in tests/fuzz with clang, when clang and its libFuzzer runtime are
# installed, and gives each a short run as a ctest test (label "fuzz"). The run continues from
# the seed corpus in tests/fuzz/corpus; new inputs go to the build tree, never the source tree.
include(ExternalProject)

find_program(PERISCOPE_CLANGXX NAMES clang++ clang++-14)
set(PERISCOPE_FUZZ_SECONDS 10 CACHE STRING "How long each fuzz target runs in the test suite")
set(PERISCOPE_FUZZ_AVAILABLE OFF)
if(PERISCOPE_CLANGXX)
  # Probe: can clang link a libFuzzer binary here?
  set(probe_dir ${CMAKE_BINARY_DIR}/fuzz-probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.cc
       "#include <cstdint>\n#include <cstddef>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND ${PERISCOPE_CLANGXX} -fsanitize=fuzzer,address probe.cc -o probe
                  WORKING_DIRECTORY ${probe_dir} RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(PERISCOPE_FUZZ_AVAILABLE ON)
  endif()
endif()

if(NOT PERISCOPE_FUZZ_AVAILABLE)
  message(STATUS "fuzz targets: skipped (no clang++ with libFuzzer; install clang libclang-rt-14-dev)")
  return()
endif()
message(STATUS "fuzz targets: built with ${PERISCOPE_CLANGXX}")

set(fuzz_bin ${CMAKE_BINARY_DIR}/tests/fuzz-build)
ExternalProject_Add(periscope_fuzz
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz
  BINARY_DIR ${fuzz_bin}
  CMAKE_GENERATOR ${CMAKE_GENERATOR}
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${PERISCOPE_CLANGXX} -DPERISCOPE_ROOT=${PROJECT_SOURCE_DIR}
             -DCMAKE_BUILD_TYPE=RelWithDebInfo
  BUILD_ALWAYS ON
  INSTALL_COMMAND "")

foreach(target canonical_json x_matrix identifiers event)
  set(work_corpus ${CMAKE_BINARY_DIR}/tests/fuzz-corpus/${target})
  file(MAKE_DIRECTORY ${work_corpus} ${CMAKE_BINARY_DIR}/tests/fuzz-artifacts)
  add_test(NAME fuzz.${target}
           COMMAND ${fuzz_bin}/${target}_fuzz -max_total_time=${PERISCOPE_FUZZ_SECONDS}
                   -rss_limit_mb=1024 -timeout=5 -print_final_stats=1
                   -artifact_prefix=${CMAKE_BINARY_DIR}/tests/fuzz-artifacts/
                   ${work_corpus} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${target})
  set_tests_properties(fuzz.${target} PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()
