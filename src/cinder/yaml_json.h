/* YAML read into a jansson tree (libyaml), so that code reading
 * configuration files deals with one kind of tree only.  Nothing here
 * knows of clouds.yaml: see clouds_yaml.h for that.
 */
#ifndef CB_CINDER_YAML_JSON_H
#define CB_CINDER_YAML_JSON_H

#include <jansson.h>

/* Mappings become objects, sequences arrays.  Plain scalars true/false/
 * yes/no/on/off become booleans and null/~/(empty) null, like PyYAML;
 * every other scalar stays a string, numbers too: a project ID of
 * digits must not lose leading zeros, and "3.70" must not become 3.7.
 * Anchors, aliases and "<<" merge keys are supported; only the first
 * document is read, and an empty one is an empty object.  Mapping keys
 * must be scalars.  NULL with the error set on failure: EINVAL with
 * "<name>: line L column C: <problem>", or the errno of opening path. */
json_t *cb_yaml_load_file(const char *path);
json_t *cb_yaml_load_string(const char *text, const char *name);

#endif
