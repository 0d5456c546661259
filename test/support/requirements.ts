// What a test run may do without. The corpus (../shared/corpus) may be absent: its tests skip with a
// loud message. The real tools (rpm, dnf, createrepo_c, gpg) may be absent on a developer's machine,
// but not in CI: .ci/run installs them and sets RPMGATE_REQUIRE_TOOLS=1, and a missing tool then fails.
export const toolsRequired = process.env.RPMGATE_REQUIRE_TOOLS === '1';
