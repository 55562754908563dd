# Debian package of TransferLab: scripts/package (cpack -G DEB in the build folder) writes
# transferlab_<version>_amd64.deb. Everything lives under /usr; the binaries find their
# resources in ../share/transferlab (core::resourceDirectory).
set(CPACK_PACKAGE_NAME "transferlab")
set(CPACK_PACKAGE_VENDOR "TransferLab")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Desktop workbench for transfer learning")
set(CPACK_PACKAGE_DESCRIPTION
    "TransferLab fine-tunes pre-trained networks (ResNet, MobileNetV2, EfficientNet-Lite0,
BERT-family text encoders, or an imported TorchScript backbone) on your own images and texts,
on your own computer: browse a dataset, choose which layers to freeze, train with live plots,
inspect the mistakes, and export a verified model bundle or ONNX file. transferlab-cli runs the
same engine headless, also data-parallel across processes and machines.")
set(CPACK_PACKAGE_CONTACT "TransferLab developers <transferlab@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # transferlab_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "TransferLab developers <transferlab@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Computed shared-library dependencies (dpkg-shlibdeps), plus the OpenMP OpenBLAS the binaries'
# RPATH names (libtorch would otherwise fall back to the ~50x slower reference BLAS), and
# Qt's platform plugins, which libqt6gui6 only recommends (without them the GUI cannot start).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp, qt6-qpa-plugins")
set(CPACK_STRIP_FILES ON)

# Man pages: the version filled in, compressed as Debian does.
set(TLAB_MAN_DIR "${CMAKE_BINARY_DIR}/man")
foreach(page transferlab transferlab-cli)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/man/${page}.1 ${TLAB_MAN_DIR}/${page}.1 @ONLY)
  execute_process(COMMAND gzip -9nf ${TLAB_MAN_DIR}/${page}.1)
  install(FILES ${TLAB_MAN_DIR}/${page}.1.gz DESTINATION share/man/man1)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/transferlab)
if(TLAB_BUILD_UI)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/transferlab.desktop DESTINATION share/applications)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/io.transferlab.TransferLab.metainfo.xml
          DESTINATION share/metainfo)
  foreach(size 16 32 48 64 128 256)
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/icons/transferlab-${size}.png
            DESTINATION share/icons/hicolor/${size}x${size}/apps RENAME transferlab.png)
  endforeach()
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/icons/transferlab.svg
          DESTINATION share/icons/hicolor/scalable/apps)
endif()
include(CPack)
