// The macvtap conformance tests in thick mode: the same tests, the plugin
// executables being C forwarders to a tapwire CNI daemon this file starts
// (and stops in teardown).
process.env['TAPWIRE_CNI_MODE'] = 'thick';
await import('./macvtap.test.js');
