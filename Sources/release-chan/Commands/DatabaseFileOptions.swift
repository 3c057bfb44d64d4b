import ArgumentParser

/// The `--db PATH` option shared by the `db` commands.
struct DatabaseFileOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "Path of the db file.")
    var path: String = "db/db.json"
}
