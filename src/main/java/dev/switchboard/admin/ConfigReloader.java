package dev.switchboard.admin;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ReloadResult;

/**
 * Reloads the running gateway from its configuration file (the rule is on {@link ReloadResult}).
 *
 * <p>Lifecycle: called on an admin request thread, possibly at the same time as a SIGHUP reload;
 * the implementation serialises them.
 */
@FunctionalInterface
public interface ConfigReloader {
  /**
   * @throws ConfigException when the file has problems; nothing is applied then
   */
  ReloadResult reload() throws ConfigException;
}
