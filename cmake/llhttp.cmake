# llhttp, Node.js's HTTP/1.1 parser (maintained and fuzzed upstream), from Debian's node-llhttp
# package: it ships the generated C sources and the header, not a library, so we build them as
# a small static library here. Only io/http/parser.cpp includes llhttp.h.
set(CORIO_LLHTTP_DIR /usr/share/llhttp CACHE PATH "Where node-llhttp's api.c, http.c, llhttp.c are")
set(CORIO_LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "Where node-llhttp's llhttp.h is")
if(NOT EXISTS ${CORIO_LLHTTP_DIR}/llhttp.c OR NOT EXISTS ${CORIO_LLHTTP_INCLUDE_DIR}/llhttp.h)
  message(FATAL_ERROR "corio's HTTP layer needs llhttp's sources: apt-get install node-llhttp "
                      "(or set CORIO_LLHTTP_DIR and CORIO_LLHTTP_INCLUDE_DIR)")
endif()
enable_language(C)
add_library(corio_llhttp STATIC ${CORIO_LLHTTP_DIR}/api.c ${CORIO_LLHTTP_DIR}/http.c ${CORIO_LLHTTP_DIR}/llhttp.c)
target_include_directories(corio_llhttp PUBLIC $<BUILD_INTERFACE:${CORIO_LLHTTP_INCLUDE_DIR}>)
# Generated code, not ours: no warning flags (it has unused labels and the like).
set_target_properties(corio_llhttp PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
