# Target-scoped warnings (never global flags).
function(wal_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-missing-field-initializers)
  if(WAL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
