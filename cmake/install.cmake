# Install rules and a package config, so that a consumer can write
#   find_package(corio REQUIRED)  target_link_libraries(app PRIVATE corio::corio)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(corio_installed_targets corio)
if(CORIO_BUILD_HTTP)
  list(APPEND corio_installed_targets corio_http corio_llhttp)
endif()
install(TARGETS ${corio_installed_targets} EXPORT corioTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Headers keep the source tree's shape under include/corio, so relative includes still resolve.
install(FILES corio.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corio)
foreach(dir timers runtime io)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/corio/${dir}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()

install(EXPORT corioTargets NAMESPACE corio:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)
configure_package_config_file(cmake/corioConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/corioConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/corioConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/corioConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/corioConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/corio)
