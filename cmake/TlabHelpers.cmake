# Shared build settings for every TransferLab target.
# The warning set every target builds with (-Werror in CI through scripts/test).
set(TLAB_WARNINGS -Wall -Wextra -Wnon-virtual-dtor -Wformat=2 -Wvla)
function(tlab_target_defaults target)
  target_compile_options(${target} PRIVATE ${TLAB_WARNINGS})
  if(TLAB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Debian's libtorch resolves libblas.so.3 through update-alternatives; the reference BLAS is
# ~50x slower than OpenBLAS. Executables carry an RPATH (DT_RPATH, which unlike DT_RUNPATH also
# applies to libtorch's own dependencies) to the OpenMP OpenBLAS so they pick it themselves even
# when the system-wide alternative points elsewhere.
set(TLAB_OPENBLAS_DIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp"
    CACHE PATH "Directory holding the OpenMP OpenBLAS libblas.so.3")
function(tlab_executable_defaults target)
  tlab_target_defaults(${target})
  if(EXISTS "${TLAB_OPENBLAS_DIR}/libblas.so.3")
    target_link_options(${target} PRIVATE
      "LINKER:--disable-new-dtags" "LINKER:-rpath,${TLAB_OPENBLAS_DIR}")
  endif()
endfunction()

# tlab_add_test(NAME <name> SOURCES <files...> DEPENDS <targets...> [OWN_MAIN])
# OWN_MAIN: the sources provide main() (e.g. to create a QApplication first).
function(tlab_add_test)
  cmake_parse_arguments(T "OWN_MAIN" "NAME" "SOURCES;DEPENDS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  set_property(GLOBAL APPEND PROPERTY TLAB_TEST_TARGETS ${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPENDS} tlab_test_support GTest::gtest)
  if(NOT T_OWN_MAIN)
    target_link_libraries(${T_NAME} PRIVATE GTest::gtest_main)
  endif()
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  tlab_executable_defaults(${T_NAME})
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen")
endfunction()
