# CORIO_SANITIZE applies to every target in the tree, the library included, so that
# instrumented and uninstrumented code never mix (TSan in particular needs that).
if(CORIO_SANITIZE)
  set(_corio_san_flags -fsanitize=${CORIO_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_corio_san_flags})
  add_link_options(${_corio_san_flags})
endif()
