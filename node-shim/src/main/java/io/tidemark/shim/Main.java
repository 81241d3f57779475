package io.tidemark.shim;

/** Entry point of the {@code tidemark} command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        System.err.println("tidemark: no command given");
        return 2;
    }
}
