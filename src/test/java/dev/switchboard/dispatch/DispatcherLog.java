package dev.switchboard.dispatch;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Catches the delivery core's log lines (package dev.switchboard.dispatch), DEBUG and up, until
 * closed: for unit tests that check what operators are told, after the fact (never to wait for
 * something to happen).
 */
final class DispatcherLog implements AutoCloseable {
  private final Logger log = (Logger) LoggerFactory.getLogger("dev.switchboard.dispatch");
  private final Level level = log.getLevel();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  DispatcherLog() {
    log.setLevel(Level.DEBUG);
    appender.start();
    log.addAppender(appender);
  }

  List<String> messages() {
    synchronized (appender) {
      return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Override
  public void close() {
    log.detachAppender(appender);
    log.setLevel(level);
  }
}
