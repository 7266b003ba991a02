package dev.switchboard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code switchboard} — the command line. */
@Command(
    name = "switchboard",
    mixinStandardHelpOptions = true,
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
      EmulateCommand.class,
      DemoCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) {
    int exit = new CommandLine(new Main()).execute(args);
    if (exit != 0 || !ServeCommand.isServing()) {
      System.exit(exit);
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
