# Writes INPUT (a text file) into OUTPUT as the C++ array NAME in namespace
# demo, so a service carries its OpenAPI document inside the binary.
file(READ "${INPUT}" content)
string(FIND "${content}" ")obs_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )obs_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by demo/common/embed.cmake.\nnamespace demo {\nextern const char ${NAME}[];\nconst char ${NAME}[] = R\"obs_embed(${content})obs_embed\";\n}  // namespace demo\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
