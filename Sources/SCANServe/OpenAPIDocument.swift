/// The OpenAPI 3 description of the service, served at `/openapi.json` (kept in sync with
/// `ServiceLimits` and the response types by `ServiceRouteTests`).
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "scan-serve",
  "version": "1.0.0",
  "description": "Text-to-image search over one SCAN index (read only). Every request reads one snapshot of the index; images committed by `scan-index add` appear without a restart. Limits: query length 1000 characters, top 1...100, candidates 1...1000, 32 queries per POST, request body 65536 bytes."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8080"
  }
 ],
 "paths": {
  "/search": {
   "get": {
    "operationId": "search",
    "summary": "Search with one text query",
    "parameters": [
     {
      "name": "q",
      "in": "query",
      "required": true,
      "description": "The query (at least one word)",
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 1000
      }
     },
     {
      "name": "top",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 100,
       "default": 10
      }
     },
     {
      "name": "candidates",
      "in": "query",
      "required": false,
      "description": "Prefilter candidates re-ranked by SCAN (two-stage mode)",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "name": "mode",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "two-stage",
        "exact",
        "prefilter"
       ],
       "default": "two-stage"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "Results, as scan-search --json prints them, plus timings, unknown words and skipped images",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SearchResponse"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: the parameter at fault and what was wrong",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   },
   "post": {
    "operationId": "searchBatch",
    "summary": "Several queries in one request, answered from one snapshot",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BatchRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "One response per query, in order",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/BatchResponse"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: the parameter at fault and what was wrong",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "Request body over 65536 bytes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/images/{id}": {
   "get": {
    "operationId": "image",
    "summary": "An image's stored metadata (JSON), or its picture when the name is a file of --image-dir",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The image's metadata, or a picture file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Image"
        }
       },
       "image/svg+xml": {
        "schema": {
         "type": "string"
        }
       },
       "image/png": {
        "schema": {
         "type": "string",
         "format": "binary"
        }
       },
       "image/jpeg": {
        "schema": {
         "type": "string",
         "format": "binary"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: the parameter at fault and what was wrong",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No image with this id",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/info": {
   "get": {
    "operationId": "info",
    "summary": "The index's manifest as of the newest commit",
    "responses": {
     "200": {
      "description": "Manifest, image count, limits, picture settings",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Info"
        }
       }
      }
     }
    }
   }
  },
  "/healthz": {
   "get": {
    "operationId": "health",
    "summary": "Liveness",
    "responses": {
     "200": {
      "description": "Alive",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "status"
         ],
         "properties": {
          "status": {
           "type": "string",
           "enum": [
            "ok"
           ]
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics (text format 0.0.4)",
    "responses": {
     "200": {
      "description": "Metrics",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OpenAPI 3 document",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/": {
   "get": {
    "operationId": "page",
    "summary": "The search page (HTML, works offline)",
    "responses": {
     "200": {
      "description": "HTML page",
      "content": {
       "text/html": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "status",
       "message"
      ],
      "properties": {
       "status": {
        "type": "integer"
       },
       "parameter": {
        "type": "string",
        "description": "The query parameter, body field or path component at fault"
       },
       "message": {
        "type": "string"
       }
      }
     }
    }
   },
   "Result": {
    "type": "object",
    "required": [
     "rank",
     "id",
     "score",
     "captions"
    ],
    "properties": {
     "rank": {
      "type": "integer",
      "minimum": 1
     },
     "id": {
      "type": "string"
     },
     "score": {
      "type": "number"
     },
     "captions": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "Skipped": {
    "type": "object",
    "required": [
     "key",
     "reason"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "key": {
      "type": "integer",
      "minimum": 0
     },
     "reason": {
      "type": "string"
     }
    }
   },
   "SearchResponse": {
    "type": "object",
    "required": [
     "query",
     "results",
     "mode",
     "top",
     "candidates",
     "unknown_words",
     "skipped",
     "image_count",
     "timings_ms"
    ],
    "properties": {
     "query": {
      "type": "string"
     },
     "results": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Result"
      }
     },
     "mode": {
      "type": "string",
      "enum": [
       "two-stage",
       "exact",
       "prefilter"
      ]
     },
     "top": {
      "type": "integer"
     },
     "candidates": {
      "type": "integer"
     },
     "unknown_words": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "warning": {
      "type": "string",
      "description": "Present when words of the query are not in the vocabulary"
     },
     "skipped": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Skipped"
      },
      "description": "Images left out because a record of theirs is corrupt"
     },
     "image_count": {
      "type": "integer",
      "minimum": 0,
      "description": "Images in the snapshot searched"
     },
     "timings_ms": {
      "type": "object",
      "required": [
       "encode",
       "first_stage",
       "rerank",
       "total"
      ],
      "properties": {
       "encode": {
        "type": "number"
       },
       "first_stage": {
        "type": "number"
       },
       "rerank": {
        "type": "number"
       },
       "total": {
        "type": "number"
       }
      }
     }
    }
   },
   "BatchRequest": {
    "type": "object",
    "required": [
     "queries"
    ],
    "properties": {
     "queries": {
      "type": "array",
      "minItems": 1,
      "maxItems": 32,
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 1000
      }
     },
     "top": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100
     },
     "candidates": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000
     },
     "mode": {
      "type": "string",
      "enum": [
       "two-stage",
       "exact",
       "prefilter"
      ]
     }
    }
   },
   "BatchResponse": {
    "type": "object",
    "required": [
     "responses",
     "image_count",
     "total_ms"
    ],
    "properties": {
     "responses": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/SearchResponse"
      }
     },
     "image_count": {
      "type": "integer"
     },
     "total_ms": {
      "type": "number"
     }
    }
   },
   "Image": {
    "type": "object",
    "required": [
     "id",
     "key",
     "source",
     "captions"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "key": {
      "type": "integer",
      "minimum": 0
     },
     "source": {
      "type": "string"
     },
     "captions": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "boxes": {
      "type": "array",
      "items": {
       "type": "array",
       "minItems": 4,
       "maxItems": 4,
       "items": {
        "type": "number"
       }
      },
      "description": "x1, y1, x2, y2 per region, when the source had them"
     },
     "image_width": {
      "type": "integer"
     },
     "image_height": {
      "type": "integer"
     },
     "picture": {
      "type": "string",
      "description": "Where the page finds the picture"
     }
    }
   },
   "Info": {
    "type": "object",
    "required": [
     "index",
     "image_count",
     "manifest",
     "limits"
    ],
    "properties": {
     "index": {
      "type": "string"
     },
     "image_count": {
      "type": "integer",
      "minimum": 0
     },
     "manifest": {
      "type": "object",
      "required": [
       "model_name",
       "model_fingerprint",
       "image_count",
       "precision",
       "prefilter_kind",
       "prefilter_dim",
       "state"
      ],
      "properties": {
       "model_name": {
        "type": "string"
       },
       "model_fingerprint": {
        "type": "string"
       },
       "image_count": {
        "type": "integer"
       },
       "region_count": {
        "type": "integer"
       },
       "precision": {
        "type": "string"
       },
       "prefilter_kind": {
        "type": "string"
       },
       "prefilter_dim": {
        "type": "integer"
       },
       "state": {
        "type": "string",
        "enum": [
         "building",
         "complete"
        ]
       }
      }
     },
     "picture_url_template": {
      "type": "string"
     },
     "notice": {
      "type": "string"
     },
     "limits": {
      "type": "object",
      "properties": {
       "max_query_length": {
        "type": "integer"
       },
       "max_top": {
        "type": "integer"
       },
       "max_candidates": {
        "type": "integer"
       },
       "max_batch_queries": {
        "type": "integer"
       },
       "max_body_bytes": {
        "type": "integer"
       }
      }
     }
    }
   }
  }
 }
}
"""#
}
