import Foundation
@testable import Learning
import Testing

@Suite struct RunDirectoryTests {
    func runDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "meow-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    // MARK: - Lock

    @Test func aSecondLearnerIsKeptOutAndToldWhoHoldsTheDirectory() throws {
        let directory = try runDirectory()
        do {
            let held = try RunDirectoryLock(runDirectory: directory)
            #expect(throws: LearnerError.runDirectoryLocked(path: directory, holderPID: getpid())) {
                try RunDirectoryLock(runDirectory: directory)
            }
            withExtendedLifetime(held) {}
        }
        // Once the holder is gone the directory is free again.
        _ = try RunDirectoryLock(runDirectory: directory)
    }

    // MARK: - Served versions

    @Test func versionsAreReservedInBlocksThatOutliveTheProcess() throws {
        let directory = try runDirectory()
        let ceiling = VersionCeiling(runDirectory: directory, block: 100)
        #expect(ceiling.ceiling == 0)
        try ceiling.reserve(0)
        #expect(!FileManager.default.fileExists(atPath: ceiling.path), "version 0 needs no reservation")
        try ceiling.reserve(7)
        #expect(ceiling.ceiling == 107)
        try ceiling.reserve(50)
        #expect(VersionCeiling(runDirectory: directory).ceiling == 107, "a later learner reads the stored ceiling")
        try ceiling.reserve(108)
        #expect(VersionCeiling(runDirectory: directory).ceiling == 208)
    }

    // MARK: - One run per directory

    @Test func aFreshRunRefusesADirectoryWithARunUnlessToldToOverwrite() throws {
        let directory = try runDirectory()
        try LearnerRunFiles.claim(directory, overwrite: false)  // empty: fine
        try Data(#"{"env": "pendulum"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        try Data(#"{"env_steps": 1200, "updates": 340}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/learner-stats.json"))
        try FileManager.default.createDirectory(atPath: directory + "/wal", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory + "/wal/segment-000000000001.wal", contents: Data()))
        #expect(FileManager.default.createFile(atPath: directory + "/notes.txt", contents: Data()))
        #expect(throws: LearnerError.runDirectoryHoldsRun(
            path: directory, found: "env pendulum, 1200 env steps, 340 updates, a write-ahead log")) {
            try LearnerRunFiles.claim(directory, overwrite: false)
        }
        try LearnerRunFiles.claim(directory, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["notes.txt"],
                "only the run's files go")
    }
}
