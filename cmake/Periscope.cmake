# Helpers shared by every CMakeLists.txt in the tree.

# Project code builds with warnings as errors; generated code does not.
set(PERISCOPE_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror)

# periscope_library(NAME SRCS a.cc b.cc DEPS x y)
function(periscope_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${PERISCOPE_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# periscope_test(NAME SRCS a_test.cc DEPS x y [LABELS unit])
# Registers each gtest case with ctest; LABELS defaults to "unit".
function(periscope_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${PERISCOPE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 30)
endfunction()

# periscope_binary(NAME SRCS main.cc DEPS x y)
find_library(PERISCOPE_JEMALLOC jemalloc REQUIRED)

function(periscope_binary name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${PERISCOPE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  # jemalloc: glibc malloc was a quarter of the CPU of a /sync wake-up storm (bench/README.md).
  target_link_libraries(${name} PRIVATE ${PERISCOPE_JEMALLOC})
endfunction()
