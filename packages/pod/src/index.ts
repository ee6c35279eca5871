// Pod networks from NetworkAttachmentDefinitions: see README (issue 11).
export {};
