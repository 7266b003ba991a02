package dev.switchboard.config;

/**
 * One thing wrong with a configuration file.
 *
 * @param line 1-based line in the file, or 0 when the problem is not tied to a line
 * @param path the key path, e.g. {@code sources.genesys-dispositions.verify.scheme}
 */
public record ConfigProblem(String file, int line, String path, String message) {
  @Override
  public String toString() {
    return file
        + ":"
        + (line > 0 ? line + ": " : " ")
        + (path.isEmpty() ? "" : path + ": ")
        + message;
  }
}
