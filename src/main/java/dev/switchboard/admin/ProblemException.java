package dev.switchboard.admin;

/** Ends a request with one of the catalogue's problems; thrown by handlers, rendered once. */
public final class ProblemException extends RuntimeException {
  private final Problem problem;
  private final java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>();

  ProblemException(Problem problem, String detail) {
    super(detail, null, false, false);
    this.problem = problem;
  }

  public Problem problem() {
    return problem;
  }

  public String detail() {
    return getMessage();
  }

  /** Adds an extension member to the problem body (RFC 9457 §3.2), such as the list of problems. */
  ProblemException extra(String member, Object value) {
    extra.put(member, value);
    return this;
  }

  java.util.Map<String, Object> extra() {
    return extra;
  }
}
