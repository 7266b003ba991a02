package dev.switchboard.ingest;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * CIDR allow-list. {@code X-Forwarded-For} is believed only when the TCP peer is a trusted proxy,
 * and then the right-most address not itself a trusted proxy is the client.
 */
public final class IpAllowList {
  private static final java.util.regex.Pattern IPV4 =
      java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private final List<Cidr> allowed;
  private final List<Cidr> trustedProxies;

  public IpAllowList(List<String> allowed, List<String> trustedProxies) {
    this.allowed = allowed.stream().map(Cidr::parse).toList();
    this.trustedProxies = trustedProxies.stream().map(Cidr::parse).toList();
  }

  /** The client's address as far as it can be trusted. */
  public String clientAddress(String peer, String forwardedFor) {
    if (forwardedFor == null || forwardedFor.isBlank() || !matchesAny(trustedProxies, peer)) {
      return peer;
    }
    String[] hops = forwardedFor.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (!hop.isEmpty() && !matchesAny(trustedProxies, hop)) {
        return hop;
      }
    }
    return peer;
  }

  public boolean allows(String clientAddress) {
    return allowed.isEmpty() || matchesAny(allowed, clientAddress);
  }

  private static boolean matchesAny(List<Cidr> list, String address) {
    byte[] bytes = parseLiteral(address);
    if (bytes == null) {
      return false;
    }
    for (Cidr c : list) {
      if (c.contains(bytes)) {
        return true;
      }
    }
    return false;
  }

  /** Parses an IP literal without DNS; null when it is not one. */
  static byte[] parseLiteral(String text) {
    String t = text.trim();
    if (t.startsWith("[") && t.endsWith("]")) {
      t = t.substring(1, t.length() - 1);
    }
    // only literals: InetAddress.getByName would resolve a name such as 1.2.3.4.nip.io via DNS
    if (t.isEmpty() || !(t.indexOf(':') >= 0 || IPV4.matcher(t).matches())) {
      return null;
    }
    try {
      byte[] bytes = InetAddress.getByName(t).getAddress();
      return unmapV4(bytes);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static byte[] unmapV4(byte[] bytes) {
    if (bytes.length == 16) {
      for (int i = 0; i < 10; i++) {
        if (bytes[i] != 0) {
          return bytes;
        }
      }
      if (bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff) {
        return new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]};
      }
    }
    return bytes;
  }

  record Cidr(byte[] network, int prefix) {
    static Cidr parse(String text) {
      int slash = text.indexOf('/');
      String host = slash < 0 ? text : text.substring(0, slash);
      byte[] bytes = parseLiteral(host);
      if (bytes == null) {
        throw new IllegalArgumentException("not an IP address or CIDR: " + text);
      }
      int prefix =
          slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1).trim());
      if (prefix < 0 || prefix > bytes.length * 8) {
        throw new IllegalArgumentException("bad prefix length in " + text);
      }
      return new Cidr(bytes, prefix);
    }

    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = 0xff << (8 - rest);
      return (address[full] & mask) == (network[full] & mask);
    }
  }
}
