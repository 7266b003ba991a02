package dev.switchboard.admin;

/** Ends a request with one of the catalogue's problems; thrown by handlers, rendered once. */
public final class ProblemException extends RuntimeException {
  private final Problem problem;

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
}
