# The release build (scripts/build-image, scripts/bench, scripts/demo --netns): one set of flags
# for all of them, so that none rebuilds what another built with other flags.
#   swift build -c release --static-swift-stdlib: the Swift runtime linked in;
#   -ffile-prefix-map (C and C++: BoringSSL's __FILE__ in its error queue and assertions, the
#   lambdas __PRETTY_FUNCTION__ names, debug info) and -file-prefix-map (Swift: #filePath, debug
#   info) write the package directory as ".": the binaries do not depend on where the checkout is.

# release_build [ARGS...]: the release build of the package in the current directory.
release_build() {
  local dir
  dir=$(pwd -P)
  swift build -c release --static-swift-stdlib \
    -Xcc "-ffile-prefix-map=$dir=." -Xswiftc -file-prefix-map -Xswiftc "$dir=." "$@"
}
