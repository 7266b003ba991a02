package dev.switchboard.expr;

/** A JSONata expression failed to compile or to evaluate. */
public class ExpressionException extends RuntimeException {
  private final int position;

  public ExpressionException(String message, int position, Throwable cause) {
    super(message, cause);
    this.position = position;
  }

  /** 0-based character position in the expression, or -1 when unknown. */
  public int position() {
    return position;
  }
}
