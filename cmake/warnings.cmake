# The warning set every corio target is built with (-Werror when CORIO_WERROR is on, as in CI).
function(corio_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           $<$<BOOL:${CORIO_WERROR}>:-Werror>)
endfunction()
