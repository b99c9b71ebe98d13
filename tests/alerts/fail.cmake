# cmake -DMESSAGE=... -P fail.cmake: a test that fails with MESSAGE (used when a
# tool the alerts tests need is missing).
message(FATAL_ERROR "${MESSAGE}")
