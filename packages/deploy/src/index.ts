// Tests of deploy/: see deploy/README.md (issue 11).
export {};
