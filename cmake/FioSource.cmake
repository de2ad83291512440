# Locates fio's configured source tree, whose headers the external engine is
# compiled against. fio's structs are not versioned: headers that differ
# from the installed fio binary corrupt its memory without any error, so
# the check lives in one place (scripts/fio-source) and a failure stops the
# configure step with that script's explanation.
set(DIOBENCH_FIO_SOURCE "" CACHE PATH
    "configured fio source tree matching the installed fio (default: the one scripts/setup prepared)")

set(_fio_tool ${PROJECT_SOURCE_DIR}/scripts/fio-source)
if(DIOBENCH_FIO_SOURCE)
  execute_process(COMMAND ${_fio_tool} check ${DIOBENCH_FIO_SOURCE}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
else()
  execute_process(COMMAND ${_fio_tool} locate
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "fio headers unusable:\n${_err}\nRun scripts/setup to prepare them.")
endif()
set(FIO_SOURCE_DIR ${_out})
message(STATUS "fio headers: ${FIO_SOURCE_DIR}")
# Re-run the check when the installed fio changes (e.g. after an upgrade).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS /var/lib/dpkg/info/fio.list)
