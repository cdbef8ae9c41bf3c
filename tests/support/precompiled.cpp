// tests/support/precompiled.cpp — the one translation unit of the corio_test_pch target.
//
// It exists only so that CMake has something to build the tests' shared precompiled header
// with (tests/CMakeLists.txt, corio_test_pch); every test executable then reuses that header.
