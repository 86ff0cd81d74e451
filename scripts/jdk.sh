# Sourced by ./demo, ./bench and .ci/run: the one place that finds a JDK 21 or newer to run braid
# with (the build itself finds one through Maven toolchains, see the parent pom).
#
#   java_feature DIR   prints the feature release of the JDK at DIR (21, 25, ...), or nothing
#   pick_jdk           prints JAVA_HOME if it is a JDK 21+, else the first JDK 21+ under /usr/lib/jvm;
#                      fails (status 1, prints nothing) when there is none

java_feature() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    awk -F'= ' '/java.specification.version/ { print $2 }' | cut -d. -f1
}

pick_jdk() {
  local candidate version
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    version=$(java_feature "$candidate")
    if [ -n "$version" ] && [ "$version" -ge 21 ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
