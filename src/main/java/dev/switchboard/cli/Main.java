package dev.switchboard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code switchboard} — the command line. Every command inherits {@code -h/--help} and {@code
 * -V/--version} (usage printed, exit 0, before any required option is checked), and {@code
 * switchboard help COMMAND} prints a command's usage.
 */
@Command(
    name = "switchboard",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT,
    versionProvider = Main.Version.class,
    description = "Self-hosted event gateway for contact-center integrations.",
    subcommands = {
      ServeCommand.class,
      ValidateCommand.class,
      SendCommand.class,
      EventsCommand.class,
      DlqCommand.class,
      DestinationsCommand.class,
      ReloadCommand.class,
      BackupCommand.class,
      EmulateCommand.class,
      DemoCommand.class,
      AotTrainingCommand.class,
      GenesysCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) {
    int exit = commandLine().execute(args);
    if (exit != 0 || !ServeCommand.isServing()) {
      System.exit(exit);
    }
  }

  /** The command line with every command, as {@code main} runs it. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    addHelpToGroups(cli);
    return cli;
  }

  /** {@code switchboard dlq help replay} as well as {@code switchboard help dlq}. */
  private static void addHelpToGroups(CommandLine group) {
    for (CommandLine sub : group.getSubcommands().values()) {
      if (!sub.getSubcommands().isEmpty() && !sub.getSubcommands().containsKey("help")) {
        sub.addSubcommand(new CommandLine.HelpCommand());
        addHelpToGroups(sub);
      }
    }
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"switchboard " + (v == null ? "dev" : v)};
    }
  }
}
