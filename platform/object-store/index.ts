export { createDirectoryObjectStore, type DirectoryObjectStoreOptions } from './directory-object-store.ts';
export { createS3ObjectStore, type S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts';
