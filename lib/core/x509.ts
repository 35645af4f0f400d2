// @peculiar/x509 needs the reflect-metadata polyfill loaded first; import x509 from here only.
import 'reflect-metadata';

export * from '@peculiar/x509';
