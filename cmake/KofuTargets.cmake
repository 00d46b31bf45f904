# Warnings, sanitizers and test registration applied per target through one helper each,
# never by editing CMAKE_CXX_FLAGS.

add_library(kofu_warnings INTERFACE)
add_library(kofu::warnings ALIAS kofu_warnings)
target_compile_options(kofu_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual
  # GCC 12 reports impossible std::string memcpy overlaps at -O3 (GCC bug 105329): not ours.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${KOFU_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(kofu_sanitizers INTERFACE)
add_library(kofu::sanitizers ALIAS kofu_sanitizers)
if(KOFU_SANITIZE)
  list(JOIN KOFU_SANITIZE "," _kofu_san)
  target_compile_options(kofu_sanitizers INTERFACE -fsanitize=${_kofu_san} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=all)
  target_link_options(kofu_sanitizers INTERFACE -fsanitize=${_kofu_san})
  if("address" IN_LIST KOFU_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # With ASan instrumentation GCC 12 reports std::function members inside libstdc++'s
    # std::regex as maybe uninitialized (scenario/loader.cpp); GCC's manual warns that
    # sanitizers cause such false positives, and -Werror would stop the asan preset.
    target_compile_options(kofu_sanitizers INTERFACE -Wno-maybe-uninitialized)
  endif()
  if("thread" IN_LIST KOFU_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 warns that TSan does not model atomic_thread_fence, which Asio uses; the warning is
    # about TSan's coverage, not about our code, and -Werror would stop every Asio file.
    target_compile_options(kofu_sanitizers INTERFACE -Wno-tsan)
  endif()
endif()

if(KOFU_BUILD_FUZZERS)
  # Coverage instrumentation for libFuzzer in every kofu target; the fuzzers link the runtime.
  target_compile_options(kofu_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()

# kofu_target_defaults(TARGET): the project's warnings and sanitizers on one of its own targets.
function(kofu_target_defaults target)
  target_link_libraries(${target} PRIVATE kofu::warnings kofu::sanitizers)
endfunction()

# kofu_library(NAME SOURCES... DEPS...): one static library of a part's concern (e.g.
# kofu_harness_population), with the project's warnings and sanitizers. Public headers come from
# the part's include/ folder, private ones from its src/ folder.
function(kofu_library name)
  cmake_parse_arguments(ARG "" "INCLUDE;PRIVATE_INCLUDE" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${ARG_INCLUDE} PRIVATE ${ARG_PRIVATE_INCLUDE})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE kofu::warnings kofu::sanitizers)
  target_compile_definitions(${name} PUBLIC KOFU_VERSION="${PROJECT_VERSION}" BOOST_ASIO_NO_DEPRECATED)
endfunction()

# kofu_add_test(NAME SOURCES... LIBS...): one GoogleTest executable, discovered by CTest.
# End-to-end tests find the real `kofu` and `kofu-mock` through kofu_test_support
# (tests/support/test_support.hpp); the full build builds them before CTest runs.
function(kofu_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  kofu_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} kofu_test_support GTest::gtest
                                        GTest::gtest_main GTest::gmock)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT})
endfunction()
